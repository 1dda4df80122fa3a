package org.jbhyve.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** What {@link JsonText} writes, read back by Jackson ({@link Json}), is what was written. */
class JsonTextTest {

    /** Any text, with the characters JSON must escape (quotes, backslashes, controls, lone surrogates) made likely. */
    @Provide
    Arbitrary<String> text() {
        Arbitrary<Character> awkward = Arbitraries.of('"', '\\', '\n', '\r', '\t', '\0', '\u001f', '\u007f', '\ud800',
                '\udc00', 'é', '€');
        return Arbitraries.oneOf(Arbitraries.strings().all().ofMaxLength(20),
                Arbitraries.strings().withChars('a', '/').ofMaxLength(5),
                Combinators.combine(Arbitraries.strings().alpha().ofMaxLength(4), awkward.list().ofMaxSize(6))
                        .as((s, cs) -> s + cs.stream().map(String::valueOf).reduce("", String::concat)));
    }

    @Provide
    Arbitrary<String> maybeText() {
        return text().injectNull(0.2);
    }

    @Provide
    Arbitrary<VmRecord> records() {
        Arbitrary<String> names = Arbitraries.strings().withChars("abc123._-").ofMinLength(1).ofMaxLength(12)
                .map(s -> "v" + s);
        return Combinators.combine(names, maybeText(), Arbitraries.longs(), Arbitraries.of(true, false),
                        maybeText(), maybeText(), text().list().ofMaxSize(3),
                        Arbitraries.maps(text(), text()).ofMaxSize(3))
                .as((name, kernel, memory, wired, cmdline, console, disks, env) -> new VmRecord(name, "bhyveload",
                        memory, wired, !wired, kernel, null, cmdline, kernel, disks, console, env));
    }

    @Property
    void aStringReadsBackAsItself(@ForAll("text") String value) {
        JsonNode read = Json.parseObject(JsonText.object(Map.of("k", JsonText.string(value)))).get("k");
        assertEquals(value, read.textValue()); // a lone surrogate too: written escaped, read back as itself
    }

    @Property
    void aRecordReadsBackAsItself(@ForAll("records") VmRecord record) {
        VmRecord read = RegistryFiles.record(record.toJson());
        assertEquals(record, read);
    }

    @Property
    void runInfoReadsBackAsItself(@ForAll("records") VmRecord record) {
        Registry.RunInfo info = new Registry.RunInfo(4242, 1_700_000_000_123L, record);
        assertEquals(info,
                RegistryFiles.runInfo(info.toJson()));
    }

    @Test
    void escapesAsRfc8259Asks() {
        assertEquals("\"a\\\"b\\\\c\\nd\\u0001\\ud800\"", JsonText.string("a\"b\\c\nd\u0001\ud800"));
        assertEquals("null", JsonText.string(null));
        assertEquals("{\"pid\":7,\"started\":0,\"record\":null}", new Registry.RunInfo(7, 0, null).toJson());
        assertEquals("[]", JsonText.strings(List.of()));
    }

}
