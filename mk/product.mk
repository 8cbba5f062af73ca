# mk/product.mk — the product layer: database, clustering, output folders, metrics, sort verb,
# LFW evaluation and clustering benchmark tools.

# Tools: clustering benchmark, LFW evaluation, and the test helper that writes a database from JSONL
# embeddings (used by tests/e2e_sort.sh before/independently of the embed pipeline).
ifneq ($(filter native asan,$(V)),)
TOOLS += $(B)/tools/bench-cluster $(B)/tools/eval-lfw $(B)/tools/eval-threshold $(B)/tools/eval-find $(B)/tools/eval-merge
$(B)/tools/bench-cluster $(B)/tools/eval-lfw $(B)/tools/eval-threshold $(B)/tools/eval-find $(B)/tools/eval-merge: $(B)/tools/%: tools/%.c tools/lfw-set.h $(B)/libsbf.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -o $@ $< $(B)/libsbf.a $(LDFLAGS_V_$(V):-static=) $(LDLIBS)
endif

# Test helper for tests/e2e_sort.sh (writes a database from golden embeddings + seeded noise).
$(B)/tests/e2e_sort_mkdb: tests/e2e_sort_mkdb.c $(B)/libsbf.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -o $@ $< $(B)/libsbf.a $(LDFLAGS_V_$(V):-static=) $(LDLIBS)
check: $(B)/tests/e2e_sort_mkdb

# tools/realign: re-embed a database's faces with another alignment rule (stored boxes + landmarks).
ifeq ($(V),native)
TOOLS += $(B)/tools/realign
$(B)/tools/realign: tools/realign.c $(B)/libsbf.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -o $@ $< $(B)/libsbf.a $(LDFLAGS_V_$(V):-static=) $(LDLIBS)
endif
