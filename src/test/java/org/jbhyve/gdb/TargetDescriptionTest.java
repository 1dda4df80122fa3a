package org.jbhyve.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The target description is well-formed XML naming every register in protocol order. */
class TargetDescriptionTest {
    private static Document parse() throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(TargetDescription.xml()));
    }

    @Test
    void registersMatchTheRegisterFileInOrderAndSize() throws Exception {
        Document d = parse();
        assertEquals("i386:x86-64", d.getElementsByTagName("architecture").item(0).getTextContent());
        NodeList regs = d.getElementsByTagName("reg");
        assertEquals(RegisterFile.count(), regs.getLength());
        for (int n = 0; n < regs.getLength(); n++) {
            Element e = (Element) regs.item(n);
            RegisterFile.Reg r = RegisterFile.REGISTERS.get(n);
            assertEquals(r.name(), e.getAttribute("name"));
            assertEquals(String.valueOf(n), e.getAttribute("regnum"));
            assertEquals(String.valueOf(r.bits()), e.getAttribute("bitsize"));
            assertEquals(r.feature(), ((Element) e.getParentNode()).getAttribute("name"));
        }
    }

    @Test
    void gdbsOwnFeaturesComeFirstAndEveryTypeUsedIsDefinedOrBuiltIn() throws Exception {
        Document d = parse();
        NodeList features = d.getElementsByTagName("feature");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < features.getLength(); i++) {
            names.add(((Element) features.item(i)).getAttribute("name"));
        }
        assertEquals(List.of("org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments",
                "org.jbhyve.x86.system"), names);
        List<String> defined = new ArrayList<>(List.of("int", "int8", "int16", "int32", "int64", "uint64", "uint128",
                "code_ptr", "data_ptr", "i387_ext", "ieee_single", "ieee_double"));
        for (String tag : List.of("flags", "vector", "union")) {
            NodeList l = d.getElementsByTagName(tag);
            for (int i = 0; i < l.getLength(); i++) {
                defined.add(((Element) l.item(i)).getAttribute("id"));
            }
        }
        NodeList regs = d.getElementsByTagName("reg");
        for (int n = 0; n < regs.getLength(); n++) {
            String type = ((Element) regs.item(n)).getAttribute("type");
            assertEquals(true, defined.contains(type), type);
        }
    }
}
