package org.jbhyve.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TopologyTest {

    private static Topology of(String... kv) {
        ConfigTree t = new ConfigTree();
        for (int i = 0; i < kv.length; i += 2) {
            t.set(kv[i], kv[i + 1]);
        }
        return Topology.from(t);
    }

    @Test
    void nothingSetIsOneVcpu() {
        assertEquals(Topology.single(), of());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "cpus=4|4|4|1|1",
        "sockets=2|2|2|1|1",
        "cores=2,threads=2|4|1|2|2",
        "cpus=8,sockets=2,cores=2,threads=2|8|2|2|2",
        "cpus=4,sockets=2,cores=2|4|2|2|1",
        "cpus=0x10|16|16|1|1",
    })
    void topologies(String settings, int cpus, int sockets, int cores, int threads) {
        String[] kv = settings.replace('=', ',').split(",");
        assertEquals(new Topology(cpus, sockets, cores, threads), of(kv));
    }

    @Test
    void socketsDefaultToTheCpuCountSoExtraCoresDoNotMultiplyOut() {
        ConfigException e = assertThrows(ConfigException.class, () -> of("cpus", "4", "cores", "2"));
        assertEquals("Topology (4 sockets, 2 cores, 1 threads) does not match 4 vCPUs", e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "cpus|0|Invalid value for cpus: '0'",
        "cpus|-2|Invalid value for cpus: '-2'",
        "cpus|1025|Invalid value for cpus: '1025'",
        "cpus|two|Invalid value for cpus: 'two'",
        "cores|0|Invalid value for cores: '0'",
        "threads|x|Invalid value for threads: 'x'",
        "sockets||Invalid value for sockets: ''",
    })
    void badValues(String key, String value, String message) {
        assertEquals(message, assertThrows(ConfigException.class, () -> of(key, value == null ? "" : value))
                .getMessage());
    }

    @Test
    void theProductIsCapped() {
        assertEquals(new Topology(1024, 4, 16, 16), of("sockets", "4", "cores", "16", "threads", "16"));
        assertEquals("Computed number of vCPUs too high: 2048 (at most 1024)", assertThrows(ConfigException.class,
                () -> of("sockets", "8", "cores", "16", "threads", "16")).getMessage());
    }

    @Property
    void anyConsistentTopologyIsAccepted(@ForAll @IntRange(min = 1, max = 8) int sockets,
            @ForAll @IntRange(min = 1, max = 8) int cores, @ForAll @IntRange(min = 1, max = 8) int threads) {
        int cpus = sockets * cores * threads;
        assertEquals(new Topology(cpus, sockets, cores, threads), of("cpus", "" + cpus, "sockets", "" + sockets,
                "cores", "" + cores, "threads", "" + threads));
        assertEquals(new Topology(cpus, sockets, cores, threads), of("sockets", "" + sockets,
                "cores", "" + cores, "threads", "" + threads), "cpus omitted: the product");
    }

    @Property
    void anyInconsistentCountIsRejected(@ForAll @IntRange(min = 1, max = 8) int cores,
            @ForAll @IntRange(min = 1, max = 64) int cpus) {
        int sockets = 2;
        if (sockets * cores == cpus) {
            return;
        }
        assertThrows(ConfigException.class, () -> of("cpus", "" + cpus, "sockets", "2", "cores", "" + cores));
    }
}
