package org.robustflow.data;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;
import org.robustflow.avro.MnistImage;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AvroCodecTest {
    private static MnistImage image() {
        return MnistImage.newBuilder()
                .setRunId("r")
                .setImageId(3)
                .setLabel(7)
                .setWidth(28)
                .setHeight(28)
                .setPixels(ByteBuffer.wrap(new byte[784]))
                .setSource("mnist/test")
                .setExpectedTotal(10)
                .setProducedAt(Instant.ofEpochMilli(1000))
                .build();
    }

    @Test
    void shouldRoundTrip() throws Exception {
        AvroCodec<MnistImage> codec = AvroCodec.of(MnistImage.class);
        assertThat(codec.decode(codec.encode(image()))).isEqualTo(image());
    }

    @Test
    void shouldReadMessagesOfAnOlderWriterSchemaOnceTold() throws Exception {
        // An older producer's schema: no source, expectedTotal or producedAt yet.
        Schema old =
                new Schema.Parser()
                        .parse(
                                """
                {"type":"record","name":"MnistImage","namespace":"org.robustflow.avro","fields":[
                  {"name":"runId","type":"string"},{"name":"imageId","type":"long"},{"name":"label","type":"int"},
                  {"name":"width","type":"int"},{"name":"height","type":"int"},{"name":"pixels","type":"bytes"}]}""");
        GenericRecord record = new GenericData.Record(old);
        record.put("runId", "r");
        record.put("imageId", 3L);
        record.put("label", 7);
        record.put("width", 28);
        record.put("height", 28);
        record.put("pixels", ByteBuffer.wrap(new byte[784]));
        ByteBuffer buf =
                new BinaryMessageEncoder<GenericRecord>(GenericData.get(), old).encode(record);
        byte[] bytes = new byte[buf.remaining()];
        buf.get(bytes);

        AvroCodec<MnistImage> codec = AvroCodec.of(MnistImage.class);
        assertThatThrownBy(() -> codec.decode(bytes)).hasMessageContaining("not a MnistImage");
        MnistImage decoded = codec.addWriterSchema(old).decode(bytes);
        assertThat(decoded.getLabel()).isEqualTo(7);
        assertThat(decoded.getSource()).isEmpty();
        assertThat(decoded.getExpectedTotal()).isZero();
    }

    @Test
    void shouldRejectGarbageWithAReadableReason() {
        AvroCodec<MnistImage> codec = AvroCodec.of(MnistImage.class);
        byte[] good = codec.encode(image());
        assertThatThrownBy(() -> codec.decode(new byte[] {1, 2, 3}))
                .hasMessageContaining("not a MnistImage");
        assertThatThrownBy(() -> codec.decode(Arrays.copyOf(good, good.length / 2)))
                .hasMessageContaining("not a MnistImage");
        assertThatThrownBy(() -> codec.decode(new byte[0])).hasMessageContaining("empty message");
    }
}
