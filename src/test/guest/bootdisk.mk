# BIOS boot media for the firmware boot tests (included by the Makefile):
#   $(OUT)/bootdisk.img   1 MiB MBR disk; prints "JBT boot sector dl=0x.."
#   $(OUT)/bootdisk2.img  the same program built with -DSECOND_DISK
#                         ("JBT boot sector disk=B dl=0x..")
#   $(OUT)/bootcd.iso     ISO 9660 with an El Torito no-emulation image
#                         ("JBT cdrom boot dl=0x..")
# 16-bit code (GNU as, .code16) linked at 0x7C00 and flattened with objcopy;
# the ISO is written by the host tool mkbootcd.  See bootdisk/README.md.

BOOTDISK_SRC := $(CURDIR)/bootdisk
BOOTDISK_TMP := $(OUT)/test/bootdisk
BOOTDISK_SIZE := 1048576

EXTRA_GUESTS += $(OUT)/bootdisk.img $(OUT)/bootdisk2.img $(OUT)/bootcd.iso

$(BOOTDISK_TMP):
	$(Q)mkdir -p $@

$(BOOTDISK_TMP)/disk-a.o: $(BOOTDISK_SRC)/disk.S $(BOOTDISK_SRC)/stage2.inc $(BOOTDISK_SRC)/io16.inc $(BOOTDISK_SRC)/bootstart.inc | $(BOOTDISK_TMP)
	$(Q)$(CC) -c -Wa,--noexecstack -o $@ $<

$(BOOTDISK_TMP)/disk-b.o: $(BOOTDISK_SRC)/disk.S $(BOOTDISK_SRC)/stage2.inc $(BOOTDISK_SRC)/io16.inc $(BOOTDISK_SRC)/bootstart.inc | $(BOOTDISK_TMP)
	$(Q)$(CC) -c -Wa,--noexecstack -DSECOND_DISK -o $@ $<

$(BOOTDISK_TMP)/cdboot.o: $(BOOTDISK_SRC)/cdboot.S $(BOOTDISK_SRC)/io16.inc $(BOOTDISK_SRC)/bootstart.inc | $(BOOTDISK_TMP)
	$(Q)$(CC) -c -Wa,--noexecstack -o $@ $<

# Real-mode images run where the BIOS loads them: 0000:7C00.
$(BOOTDISK_TMP)/%.bin: $(BOOTDISK_TMP)/%.o
	$(Q)$(LD) -nostdlib -static -Ttext=0x7c00 --build-id=none -e _start -o $(@:.bin=.elf) $<
	$(Q)$(OBJCOPY) -O binary -j .text $(@:.bin=.elf) $@

$(OUT)/bootdisk.img: $(BOOTDISK_TMP)/disk-a.bin
	$(Q)cp $< $@ && chmod 644 $@ && truncate -s $(BOOTDISK_SIZE) $@

$(OUT)/bootdisk2.img: $(BOOTDISK_TMP)/disk-b.bin
	$(Q)cp $< $@ && chmod 644 $@ && truncate -s $(BOOTDISK_SIZE) $@

$(BOOTDISK_TMP)/mkbootcd: $(BOOTDISK_SRC)/mkbootcd.c | $(BOOTDISK_TMP)
	$(Q)$(HOSTCC) -O2 -Wall -Werror -o $@ $<

$(OUT)/bootcd.iso: $(BOOTDISK_TMP)/cdboot.bin $(BOOTDISK_TMP)/mkbootcd
	$(Q)$(BOOTDISK_TMP)/mkbootcd $< $@
