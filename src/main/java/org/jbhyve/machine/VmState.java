package org.jbhyve.machine;

/**
 * The life of a VM, owned by one object ({@link VmLifecycle}):
 *
 * <pre>
 * CREATED ──start──▶ RUNNING ⇄ PAUSED      (pause: every vCPU out of KVM_RUN and parked)
 *    │                  │         │
 *    └──────────────────┴─────────┴──exit request──▶ STOPPING ──vCPU threads joined──▶ ENDED
 * </pre>
 * The first exit request (guest reset or power-off, a fatal exit, a signal, bhyvectl) moves
 * the VM to STOPPING from any state before ENDED; nothing leaves STOPPING but the end.
 */
public enum VmState {
    CREATED, RUNNING, PAUSED, STOPPING, ENDED;

    /** The protocol spelling: lower case. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
