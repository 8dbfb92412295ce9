package org.robustflow.pipeline.kafka;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.robustflow.testutils.Fixtures;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KafkaClientsTest {
    @Test
    void shouldReportImagesTheBrokerNeverTook() {
        // Nothing listens on port 1: every send fails once its metadata wait is over.
        Topics topics =
                Topics.defaults("127.0.0.1:1")
                        .withClientOverrides(
                                Map.of(
                                        ProducerConfig.MAX_BLOCK_MS_CONFIG, "200",
                                        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "400",
                                        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "200"));
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(topics)) {
            assertThatThrownBy(
                            () ->
                                    KafkaClients.produceImages(
                                            producer,
                                            topics.images(),
                                            Fixtures.mnistTest(),
                                            "lost",
                                            3,
                                            0,
                                            k -> {}))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("3 of 3 images were not delivered");
        }
    }
}
