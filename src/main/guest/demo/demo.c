#include "guest.h"
void guest_main(const struct boot_info *bi)
{
	printf("hello %s %s\n", bi->protocol_name, bi->cmdline);
}
