/* loop_tag.h: what bench/udpflood writes at the start of each datagram's
 * payload and src/bpf/reflect.bpf.c reads back: the frame's original
 * addresses and ports (network order), so that a frame a node forwarded,
 * translated or not, can be turned back into the one the client sent.
 * Needs __u8/__u16/__u32 (linux/types.h, or vmlinux.h). */
#ifndef BMLB_BPF_LOOP_TAG_H
#define BMLB_BPF_LOOP_TAG_H

#define LOOP_MAGIC "loop"

struct loop_tag {
	__u8 magic[4];
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
};

#endif
