package org.jbhyve.kvm;

/**
 * One CPUID leaf/subleaf (struct kvm_cpuid_entry2: function, index, flags, eax, ebx, ecx, edx,
 * padding[3]; 40 bytes). {@code flags} bit 0 (KVM_CPUID_FLAG_SIGNIFCANT_INDEX) says the subleaf
 * index matters.
 */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {
    static final int SIZE = 40;
    public static final int FLAG_SIGNIFICANT_INDEX = 1;

    public CpuidEntry withRegisters(int eax, int ebx, int ecx, int edx) {
        return new CpuidEntry(function, index, flags, eax, ebx, ecx, edx);
    }
}
