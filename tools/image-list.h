// tools/image-list.h — owns the C++ tools' "every image under a folder": src/walk.c's recursive,
// sorted walk filtered by src/image.h's content sniffing, so the oracle and benchmark programs see
// exactly the files `sortbyface embed` would take.
#ifndef TOOLS_IMAGE_LIST_H
#define TOOLS_IMAGE_LIST_H
#include <string>
#include <vector>
extern "C" {
#include "src/image.h"
#include "src/walk.h"
}

// Appends the image files under dir (recursively, in the walk's sorted order) to out; a missing or
// unreadable dir appends nothing (callers check for an empty list and say what is missing).
static inline void tool_list_images(const std::string &dir, std::vector<std::string> &out) {
    sbf_walk w = {};
    char err[256];
    if (sbf_walk_tree(&w, dir.c_str(), err, sizeof err) == 0) {
        for (int i = 0; i < w.n; i++)
            if (sbf_is_image_file(w.files[i].path) == 1) out.push_back(w.files[i].path);
    }
    sbf_walk_free(&w);
}
#endif
