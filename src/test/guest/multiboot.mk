# Multiboot (version 1) test kernels, included by the test guest Makefile:
#   multiboot.elf       ELF32 loaded through its program headers (flags 0x3)
#   multiboot-aout.bin  flat binary with the address fields (flags 0x10003)
# Both run multiboot_main.c in 32-bit protected mode; see multiboot.S.

MB_CFLAGS := -m32 -march=i686 -ffreestanding -nostdlib -fno-pic -fno-pie \
	-mgeneral-regs-only -mno-sse -mno-mmx -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns \
	-O2 -Wall -Werror -std=gnu11 -MMD -MP
MB_LDFLAGS := -m elf_i386 -nostdlib -static -T $(CURDIR)/multiboot.ld --build-id=none \
	-z max-page-size=4096 -z noexecstack --no-warn-rwx-segments

EXTRA_GUESTS += $(OUT)/multiboot.elf $(OUT)/multiboot-aout.bin

$(OUT)/test/multiboot_main.o: multiboot_main.c multiboot.mk | $(OUT)/test
	$(Q)$(CC) $(MB_CFLAGS) -c -o $@ $<

$(OUT)/test/multiboot.o: multiboot.S multiboot.mk | $(OUT)/test
	$(Q)$(CC) $(MB_CFLAGS) -Wa,--noexecstack -c -o $@ $<

$(OUT)/test/multiboot_aout.o: multiboot.S multiboot.mk | $(OUT)/test
	$(Q)$(CC) $(MB_CFLAGS) -DAOUT_KLUDGE -Wa,--noexecstack -c -o $@ $<

$(OUT)/multiboot.elf: $(OUT)/test/multiboot.o $(OUT)/test/multiboot_main.o multiboot.ld
	$(Q)$(LD) $(MB_LDFLAGS) -o $@ $(filter %.o,$^)

$(OUT)/test/multiboot-aout.elf: $(OUT)/test/multiboot_aout.o $(OUT)/test/multiboot_main.o multiboot.ld
	$(Q)$(LD) $(MB_LDFLAGS) -o $@ $(filter %.o,$^)

$(OUT)/multiboot-aout.bin: $(OUT)/test/multiboot-aout.elf
	$(Q)$(OBJCOPY) -O binary $< $@
