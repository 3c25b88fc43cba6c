/* The host <-> guest protocol: line-delimited JSON over one virtio-serial
 * port. Shared by both programs so the constants cannot drift apart.
 * docs/protocol.md describes every message. */
#ifndef VMEMSTRESS_PROTOCOL_H
#define VMEMSTRESS_PROTOCOL_H

/* Bumped on any incompatible change; the first guest message carries it. */
#define VMS_PROTO_VERSION 1

/* Name of the virtserialport (QEMU: name=..., libvirt: <target name=...>). */
#define VMS_PORT_NAME "org.vmemstress.0"

/* The host refuses longer lines from the guest: the guest is untrusted. */
#define VMS_MAX_GUEST_LINE (4u << 20)
/* The guest refuses longer commands from the host. */
#define VMS_MAX_HOST_LINE (64u << 10)

/* Longest population name, in bytes, without the terminating NUL. */
#define VMS_MAX_NAME 47
/* Most populations in one scenario. */
#define VMS_MAX_POPULATIONS 32

/* Characters of the block map in "populated" and "state" messages. */
#define VMS_BLOCK_PLUGGED_C 'P'
#define VMS_BLOCK_UNPLUGGED_C 'U'

#endif
