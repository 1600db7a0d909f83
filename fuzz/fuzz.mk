# SPDX-License-Identifier: LGPL-2.1-or-later
# fuzz/fuzz.mk — the libFuzzer build behind 'make fuzz' (GNU make): the library's sources and
# the targets compiled again with clang, libFuzzer's coverage, ASan and UBSan, into fuzz/ of
# the build tree.  The gcc build is not touched.  Makefile.am passes srcdir, CLANG, AR,
# LIB_SOURCES (the library's .c files), DEP_CFLAGS, DEP_LIBS and TARGETS.

SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=undefined
CFLAGS_FUZZ = -std=gnu11 -g -O1 -fno-omit-frame-pointer $(SANITIZE) -fsanitize=fuzzer-no-link \
	-DG_LOG_DOMAIN=\"spicevmc\" -I. -I$(srcdir)/plugin -I$(srcdir)/qmp -I$(srcdir)/fuzz \
	$(DEP_CFLAGS) -MMD -MP
OBJ = fuzz/obj
LIB_OBJS = $(patsubst %.c,$(OBJ)/%.o,$(LIB_SOURCES))
# Registered by a constructor and referenced by no symbol: linked whole, not from the archive.
RESOURCES = $(OBJ)/schemas/resources.o
TARGET_OBJS = $(patsubst %,$(OBJ)/fuzz/fuzz-%.o,$(TARGETS))
PROGRAMS = $(patsubst %,fuzz/fuzz-%,$(TARGETS))

all: $(PROGRAMS)

$(LIB_OBJS) $(TARGET_OBJS): $(OBJ)/%.o: $(srcdir)/%.c
	@mkdir -p $(@D)
	@echo "  CLANG    $@"; $(CLANG) $(CFLAGS_FUZZ) -c -o $@ $<

# Generated in the build tree by the gcc build's rules.
$(RESOURCES): schemas/resources.c
	@mkdir -p $(@D)
	@echo "  CLANG    $@"; $(CLANG) $(CFLAGS_FUZZ) -c -o $@ $<

fuzz/libspicevmc-fuzz.a: $(LIB_OBJS)
	@echo "  AR       $@"; rm -f $@ && $(AR) rcs $@ $^

$(PROGRAMS): fuzz/fuzz-%: $(OBJ)/fuzz/fuzz-%.o $(RESOURCES) fuzz/libspicevmc-fuzz.a
	@echo "  CCLD     $@"; $(CLANG) -g $(SANITIZE) -fsanitize=fuzzer -o $@ $^ $(DEP_LIBS)

.PHONY: all

-include $(LIB_OBJS:.o=.d) $(RESOURCES:.o=.d) $(TARGET_OBJS:.o=.d)
