package org.robustflow.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The math packages stay free of the runtime: they never import Flink or Kafka, so they run and are
 * tested without a cluster (DESIGN.md, "Invariants").
 */
class LayeringTest {
    /** Packages that hold the math; new math packages are added here. */
    static final String[] MATH_PACKAGES = {
        "org.robustflow.model..",
        "org.robustflow.bounds..",
        "org.robustflow.attack..",
        "org.robustflow.verify..",
        "org.robustflow.milp..",
        "org.robustflow.spec..",
        "org.robustflow.bab..",
    };

    private static JavaClasses production;

    @BeforeAll
    static void importClasses() {
        production =
                new ClassFileImporter()
                        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .importPackages("org.robustflow");
    }

    @Test
    void mathPackagesShouldNotDependOnFlinkOrKafka() {
        ArchRule rule =
                noClasses()
                        .that()
                        .resideInAnyPackage(MATH_PACKAGES)
                        .should()
                        .dependOnClassesThat()
                        .resideInAnyPackage("org.apache.flink..", "org.apache.kafka..")
                        .because("the math must run and be tested without a cluster");
        rule.check(production);
    }

    @Test
    void mathPackagesShouldNotDependOnThePipeline() {
        ArchRule rule =
                noClasses()
                        .that()
                        .resideInAnyPackage(MATH_PACKAGES)
                        .should()
                        .dependOnClassesThat()
                        .resideInAnyPackage(
                                "org.robustflow.pipeline..",
                                "org.robustflow.local..",
                                "org.robustflow.cli..")
                        .because("the pipeline calls the math, never the other way round");
        rule.check(production);
    }
}
