package org.robustflow.pipeline;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class JobConfigTest {
    @Test
    void shouldDeclareEveryOptionOnceWithADefaultAndADescription() {
        Set<String> keys = new HashSet<>();
        for (ConfigOption<?> option : JobConfig.OPTIONS) {
            assertThat(keys.add(option.key())).as(option.key()).isTrue();
            assertThat(option.hasDefaultValue()).as(option.key()).isTrue();
            assertThat(option.description().toString()).as(option.key()).isNotBlank();
        }
    }

    @Test
    void shouldReadSettingsFromAFlinkConfigurationAndDefaultTheRest() {
        Configuration flink = new Configuration();
        flink.setString("robustflow.milp.time-limit-ms", "1234");
        flink.setString("robustflow.attack.steps", "7");
        flink.setString("robustflow.eps", "0.01,0.02");
        flink.setString("parallelism.default", "3"); // not ours: ignored
        JobConfig cfg = JobConfig.fromConfiguration(flink);
        assertThat(cfg.milpTimeLimitMs()).isEqualTo(1234);
        assertThat(cfg.attack().steps()).isEqualTo(7);
        assertThat(cfg.eps()).containsExactly(0.01, 0.02);
        assertThat(cfg.milpMaxUnstable()).isEqualTo(JobConfig.MILP_MAX_UNSTABLE.defaultValue());
        assertThat(cfg.boundParallelism()).isEqualTo(-1);
    }

    @Test
    void shouldRejectANegativeDomainBudgetBeforeTheJobStarts() {
        Configuration flink = new Configuration();
        flink.setString("robustflow.exact.max-domains", "-1");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> JobConfig.fromConfiguration(flink))
                .hasMessageContaining("robustflow.exact.max-domains must be >= 0");
    }

    @Test
    void shouldBuildTheSameConfigurationAsTheOptionsSay() {
        JobConfig built = JobConfig.builder().eps(new double[] {0.001, 0.5}).attack(false).build();
        JobConfig read = JobConfig.fromConfiguration(built.toConfiguration());
        assertThat(read.eps()).containsExactly(0.001, 0.5);
        assertThat(read.attack()).isNull();
        assertThat(read.method()).isEqualTo(JobConfig.METHOD.defaultValue());
    }
}
