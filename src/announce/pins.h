/* pins: the MAC a DSR worker believes for each LB node (SPEC.md §1, §7),
 * pinned once verified.  Pure: the agent feeds it the ARP frames it reads
 * and sends the probes it asks for (src/agent/dsr.h).
 *
 * The option's packet keeps the client's address, so the worker knows the
 * LB node that forwarded it only by the frame's Ethernet source.  Taking
 * that MAC from the neighbour cache would trust whoever last sent an ARP
 * frame claiming the LB node's address: one forged gratuitous ARP, and the
 * forger's options are believed.  So the cache is never read.  Instead:
 *
 *   - the addresses are the LB nodes' InternalIPs, from the Node objects;
 *   - a MAC is adopted for one only from a probe window: the agent sends
 *     an ARP request for the address itself, and for one window (until the
 *     next tick) collects every ARP frame, of any kind, whose sender
 *     address is it.  Exactly one MAC seen: adopted (pinned).  None: the
 *     pin, if any, stays, and the probe is repeated.  Two or more: a
 *     conflict, logged; the pin stays only if it is among them (the LB
 *     node still answers for itself), else nothing is believed for that
 *     address until a window sees one MAC alone;
 *   - outside a window, a frame claiming the address from a MAC other
 *     than the pin is logged and not believed, and brings a probe: a
 *     poisoner must out-answer the LB node's own kernel, which answers
 *     every request for its address; when both answer, the pin holds;
 *   - a pin is re-verified every PIN_REVERIFY_MS (an LB node's new NIC is
 *     adopted then, when it alone answers).
 *
 * What ARP cannot give: a host answering alone while the LB node is down
 * (or before the worker ever pinned it) is adopted; it stays a conflict,
 * logged, once the LB node answers again.  Closing that needs the LB
 * node's MAC in its authenticated peer message, which workers do not
 * receive yet. */
#ifndef BMLB_ANNOUNCE_PINS_H
#define BMLB_ANNOUNCE_PINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PIN_CLAIMS 4            /* MACs kept per window (2 is a conflict) */
#define PIN_REVERIFY_MS 30000

struct pin_node {
	uint32_t ip;        /* an LB node's InternalIP, host order */
	uint8_t mac[6];     /* the pin, when pinned */
	bool pinned;
	bool probing;       /* a probe went out at the last tick */
	uint64_t verified_ms;
	uint8_t seen[PIN_CLAIMS][6]; /* MACs claiming ip this window */
	size_t nseen;
	uint8_t noted[6];   /* the stranger last reported, and when */
	uint64_t noted_ms;
};

struct pins {
	struct pin_node *v; /* sorted by ip */
	size_t n;
};

enum pin_event_kind {
	PIN_ADOPTED,  /* mac pinned for ip (had: the pin it replaces) */
	PIN_STRANGER, /* mac claims ip outside a window: not believed */
	PIN_CONFLICT, /* several MACs answered a probe (mac: one stranger) */
};

struct pin_event {
	enum pin_event_kind kind;
	uint32_t ip;
	uint8_t mac[6];
	bool had;         /* PIN_ADOPTED, PIN_CONFLICT: a pin before */
	uint8_t was[6];   /* ... which one */
	bool kept;        /* PIN_CONFLICT: the pin stays believed */
	size_t nseen;     /* PIN_CONFLICT: MACs seen */
};

/* Makes the LB nodes ips[0..n) (host order; 0, no address, is left out)
 * those tracked: the pins of those already tracked stay, new ones start
 * unpinned. */
void pins_nodes(struct pins *p, const uint32_t *ips, size_t n);

/* Pins mac for ip (a tracked node) as if verified at now_ms, and probes
 * it at the next tick: what an earlier agent verified (the data plane
 * kept it) is believed while it is checked again. */
void pins_seed(struct pins *p, uint32_t ip, const uint8_t mac[6],
	       uint64_t now_ms);

/* An ARP frame from mac (its sender hardware address) claiming ip. */
void pins_claim(struct pins *p, uint32_t ip, const uint8_t mac[6]);

/* Ends the window at now_ms: decides each node's pin, writes the
 * addresses to probe now into probe[] and what to log into ev[] (both
 * with room for p->n).  Returns the number of probes; *nev the events. */
size_t pins_tick(struct pins *p, uint64_t now_ms, uint32_t *probe,
		 struct pin_event *ev, size_t *nev);

/* The pinned nodes: ips[i] is at macs[i] (room for p->n).  Returns how
 * many. */
size_t pins_believed(const struct pins *p, uint32_t *ips, uint8_t (*macs)[6]);

void pins_free(struct pins *p);

#endif
