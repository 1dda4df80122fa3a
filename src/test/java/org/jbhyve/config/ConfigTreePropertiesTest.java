package org.jbhyve.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Optional;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

class ConfigTreePropertiesTest {

    @Provide
    Arbitrary<String> keys() {
        Arbitrary<String> part = Arbitraries.strings().withCharRange('a', 'e').ofMinLength(1).ofMaxLength(2);
        return part.list().ofMinSize(1).ofMaxSize(4).map(l -> String.join(".", l));
    }

    @Provide
    Arbitrary<List<String>> keyLists() {
        return keys().list().ofMaxSize(12);
    }

    @Provide
    Arbitrary<String> plainValues() {
        return Arbitraries.strings().ascii().ofMaxLength(20)
                .filter(s -> s.indexOf('%') < 0 && s.chars().noneMatch(c -> c < ' '));
    }

    @Property
    void aValueSetIsReadBackUnchanged(@ForAll("keys") String key, @ForAll("plainValues") String value) {
        ConfigTree t = new ConfigTree();
        t.set(key, value);
        assertEquals(Optional.of(value), t.get(key));
        assertEquals(List.of(key + "=" + value), t.dump());
    }

    @Property
    void replayingADumpRebuildsTheSameTree(@ForAll("keyLists") List<String> keys, @ForAll("plainValues") String value) {
        ConfigTree t = new ConfigTree();
        for (String k : keys) {
            try {
                t.set(k, value + k);
            } catch (ConfigException nodeValueClash) {
                // a key that is a prefix of another: rejected, tree unchanged
            }
        }
        ConfigTree replay = new ConfigTree();
        for (String line : t.dump()) {
            int eq = line.indexOf('=');
            replay.set(line.substring(0, eq), line.substring(eq + 1));
        }
        assertEquals(t.dump(), replay.dump());
    }

    @Property
    void booleanWordsIgnoreCase(@ForAll("booleanWords") String word, @ForAll long seed) {
        java.util.Random r = new java.util.Random(seed);
        StringBuilder sb = new StringBuilder();
        for (char c : word.toCharArray()) {
            sb.append(r.nextBoolean() ? Character.toUpperCase(c) : c);
        }
        boolean expected = List.of("true", "on", "yes").contains(word);
        assertEquals(expected, ConfigTree.parseBoolean("k", sb.toString()));
    }

    @Provide
    Arbitrary<String> booleanWords() {
        return Arbitraries.of("true", "on", "yes", "false", "off", "no");
    }

    @Property
    void bareSizesBelowOneMebiAreMebibytes(@ForAll @LongRange(min = 1, max = (1L << 20) - 1) long n) {
        assertEquals(n << 20, ConfigTree.parseMemorySize(Long.toString(n)));
    }

    @Property
    void bareSizesFromOneMebiAreBytes(@ForAll @LongRange(min = 1L << 20, max = Long.MAX_VALUE) long n) {
        assertEquals(n, ConfigTree.parseMemorySize(Long.toString(n)));
    }

    @Property
    void suffixesScaleByPowersOf1024(@ForAll @IntRange(min = 1, max = 4096) int n,
            @ForAll("suffixes") char suffix) {
        int shift = switch (Character.toLowerCase(suffix)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            default -> 40;
        };
        assertEquals((long) n << shift, ConfigTree.parseMemorySize(n + String.valueOf(suffix)));
    }

    @Provide
    Arbitrary<Character> suffixes() {
        return Arbitraries.of('k', 'K', 'm', 'M', 'g', 'G', 't', 'T');
    }

    @Property
    void oversizedSizesAreErrorsNotWraparounds(@ForAll @LongRange(min = 1L << 24, max = Long.MAX_VALUE) long n) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigTree.parseMemorySize(n + "T"));
        assertEquals("invalid memory size '" + n + "T': too large", e.getMessage());
    }
}
