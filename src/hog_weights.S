/* src/hog_weights.S — embeds weights/hog-frontal.sbfw (dlib's frontal face detector converted by
 * tools/hog-convert) into the binary, 64-byte aligned as nnw_open_memory requires. */
    .section .rodata
    .balign 64
    .globl sbf_hog_frontal_data
sbf_hog_frontal_data:
    .incbin "weights/hog-frontal.sbfw"
    .globl sbf_hog_frontal_end
sbf_hog_frontal_end:
    .byte 0
    .section .note.GNU-stack,"",%progbits
