package org.jbhyve.devices.lpc;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** LPC device models get IRQ lines, backends and callbacks; they never reach the host directly. */
class LpcDependencyTest {
    @Test
    void lpcModelsDoNotUseSysOrKvm() {
        JavaClasses classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("org.jbhyve.devices.lpc");
        noClasses().that().resideInAPackage("org.jbhyve.devices..")
                .should().dependOnClassesThat().resideInAnyPackage("org.jbhyve.sys..", "org.jbhyve.kvm..")
                .check(classes);
    }
}
