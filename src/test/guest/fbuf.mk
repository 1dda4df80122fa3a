# fbuf.elf: bhyve's framebuffer and the i8042 from the guest (FbufIT); see
# the comment at the top of fbuf.c.  Included by the test guest Makefile.

EXTRA_GUESTS += $(OUT)/fbuf.elf

$(OUT)/fbuf.elf: $(OUT)/test/fbuf.o $(OUT)/test/common.o $(GUEST_LIB_OBJS) $(GUEST_PVH_NOTE) $(LIB)/guest.ld
	$(Q)$(GUEST_LINK)
