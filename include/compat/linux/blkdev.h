/* Debian 12's kernel headers (6.1) predate <linux/blkdev.h>, which the pinned
 * liburing 2.9 includes for one constant used by io_uring_prep_cmd_discard().
 * ringgate never issues block commands; this stands in for the missing header
 * with the value the kernel's UAPI defines. */
#ifndef RINGGATE_COMPAT_LINUX_BLKDEV_H
#define RINGGATE_COMPAT_LINUX_BLKDEV_H

#include <linux/ioctl.h>

#ifndef BLOCK_URING_CMD_DISCARD
#define BLOCK_URING_CMD_DISCARD _IO(0x12, 0)
#endif

#endif
