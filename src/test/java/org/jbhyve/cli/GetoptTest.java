package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.jbhyve.cli.Getopt.Option;
import org.junit.jupiter.api.Test;

/** getopt(3)'s rules, one by one, with an option string like bhyve's. */
class GetoptTest {
    private static final String OPTS = "aAc:m:";

    @Test
    void clustersAttachedAndSeparateValues() {
        Getopt g = Getopt.parse(OPTS, "-aAc2", "-m", "1G", "vm");
        assertEquals(List.of(new Option('a', null), new Option('A', null), new Option('c', "2"), new Option('m', "1G")),
                g.options());
        assertEquals(List.of("vm"), g.operands());
        assertNull(g.error());
    }

    @Test
    void aValueMayStartWithADashAndTheFirstOperandEndsTheOptions() {
        Getopt g = Getopt.parse(OPTS, "-m", "-a", "vm", "-A");
        assertEquals(List.of(new Option('m', "-a")), g.options());
        assertEquals(List.of("vm", "-A"), g.operands(), "nothing is permuted");
    }

    @Test
    void doubleDashEndsTheOptionsAndALoneDashIsAnOperand() {
        assertEquals(List.of("-a"), Getopt.parse(OPTS, "-A", "--", "-a").operands());
        assertEquals(List.of("-", "x"), Getopt.parse(OPTS, "-", "x").operands());
        assertEquals(List.of(), Getopt.parse(OPTS).operands());
    }

    @Test
    void errorsKeepTheOptionsMetBeforeThem() {
        Getopt unknown = Getopt.parse(OPTS, "-A", "-aZ", "vm");
        assertEquals(List.of(new Option('A', null), new Option('a', null)), unknown.options());
        assertEquals("illegal option -- Z", unknown.error().message());
        assertEquals("option requires an argument -- m", Getopt.parse(OPTS, "-A", "-m").error().message());
        assertEquals("illegal option -- :", Getopt.parse(OPTS, "-:").error().message(), "':' is never an option");
        assertEquals("illegal option -- -", Getopt.parse(OPTS, "--verbose").error().message());
    }
}
