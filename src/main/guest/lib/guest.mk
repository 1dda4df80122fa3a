# Shared build rules for guest images; included by the guest Makefiles.
#
# Expects:  LIB = absolute path of this directory,  OUT = output directory.
# Provides: GUEST_LIB_OBJS (runtime objects, without the PVH note),
#           GUEST_PVH_NOTE (object holding the PVH ELF note),
#           GUEST_LINK     (command: link $^ into $@ with guest.ld),
#           pattern rules building $(OUT)/lib/*.o from $(LIB).
# Set V=1 to see the commands.

ifeq ($(strip $(OUT)),)
$(error OUT must name the output directory)
endif

CC := gcc
LD := ld
OBJCOPY := objcopy

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Freestanding, no SSE/MMX (the ring-0 instruction emulator lacks them),
# no red zone (interrupts write below RSP).  No loop-to-memset/memcpy
# rewriting, which would turn memset() into a call to itself.
GUEST_CFLAGS := -ffreestanding -nostdlib -fno-pic -fno-pie -no-pie \
	-mno-red-zone -mgeneral-regs-only -mno-sse -mno-mmx \
	-fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -static \
	-O2 -Wall -Werror -std=gnu11 -I$(LIB) -MMD -MP

GUEST_LDFLAGS := -nostdlib -static -T $(LIB)/guest.ld --build-id=none \
	-z max-page-size=4096 -z noexecstack --no-warn-rwx-segments

GUEST_LIB_NAMES := boot traps runtime serial printf string pci rtc power cmdline acpi
GUEST_LIB_OBJS := $(addprefix $(OUT)/lib/,$(addsuffix .o,$(GUEST_LIB_NAMES)))
GUEST_PVH_NOTE := $(OUT)/lib/pvhnote.o

GUEST_LINK = $(LD) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

$(OUT)/lib:
	$(Q)mkdir -p $@

$(OUT)/lib/%.o: $(LIB)/%.c $(LIB)/guest.mk | $(OUT)/lib
	$(Q)$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(OUT)/lib/%.o: $(LIB)/%.S $(LIB)/guest.mk | $(OUT)/lib
	$(Q)$(CC) $(GUEST_CFLAGS) -Wa,--noexecstack -c -o $@ $<

-include $(wildcard $(OUT)/lib/*.d)
