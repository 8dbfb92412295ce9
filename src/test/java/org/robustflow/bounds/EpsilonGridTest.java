package org.robustflow.bounds;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EpsilonGridTest {
    @Test
    void shouldParseTheDefaultGridToTheLiterals() {
        assertThat(EpsilonGrid.parse(EpsilonGrid.DEFAULT))
                .containsExactly(0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1);
    }

    @Test
    void shouldParseCommaLists() {
        assertThat(EpsilonGrid.parse("0.005, 0.03")).containsExactly(0.005, 0.03);
    }

    @Test
    void shouldFormatKeysWithFourDecimals() {
        assertThat(EpsilonGrid.key(0.01)).isEqualTo("0.0100");
        assertThat(EpsilonGrid.key(0.1)).isEqualTo("0.1000");
    }

    @Test
    void shouldRejectBadSpecs() {
        assertThatThrownBy(() -> EpsilonGrid.parse("0.1:0.01:3"))
                .hasMessageContaining("end >= start");
        assertThatThrownBy(() -> EpsilonGrid.parse("abc")).hasMessageContaining("not a number");
        assertThatThrownBy(() -> EpsilonGrid.parse("2")).hasMessageContaining("[0, 1]");
    }
}
