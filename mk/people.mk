# mk/people.mk — people that last across runs (issue 19): the stability / accuracy measurement tool.
#   build/native/tools/eval-people --db build/lfw-dev.db     (docs/MEASUREMENTS.md, "People that last (issue 19)")
ifneq ($(filter native asan,$(V)),)
TOOLS += $(B)/tools/eval-people
$(B)/tools/eval-people: tools/eval-people.c tools/lfw-set.h $(B)/libsbf.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -o $@ $< $(B)/libsbf.a $(LDFLAGS_V_$(V):-static=) $(LDLIBS)
endif
