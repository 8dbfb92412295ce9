package org.robustflow.pipeline.kafka;

import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.robustflow.avro.DeadLetter;
import org.robustflow.avro.MnistImage;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.avro.RunAnnouncement;
import org.robustflow.data.AvroCodec;
import org.robustflow.model.ModelIo;
import org.robustflow.pipeline.records.DeadLetterEvent;
import org.robustflow.pipeline.records.ImageEvent;
import org.robustflow.testutils.Fixtures;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Feeds every Kafka deserializer of the job 12,000 random and mutated messages (random bytes,
 * truncated Avro, wrong fingerprints, huge lengths, bit flips, spliced messages): none throws,
 * every message that is not valid becomes a dead letter with a reason and the original bytes, and
 * every dead letter can be written to the dead-letter topic.
 */
class DeserializerFuzzTest {
    private static final int MESSAGES = 12_000;

    /** One fuzz case: the bytes, and whether they are certainly invalid. */
    private record Case(byte[] bytes, boolean invalid) {}

    @Test
    void shouldTurnEveryBadImageMessageIntoADeadLetter() {
        AvroCodec<MnistImage> codec = AvroCodec.of(MnistImage.class);
        byte[] valid =
                codec.encode(
                        MnistImage.newBuilder()
                                .setRunId("fuzz")
                                .setImageId(3)
                                .setLabel(7)
                                .setWidth(28)
                                .setHeight(28)
                                .setPixels(ByteBuffer.wrap(Fixtures.mnistTest().rawPixels(0)))
                                .setExpectedTotal(10)
                                .setProducedAt(Instant.EPOCH)
                                .build());
        ImageDeserializer d = new ImageDeserializer(784);
        int dead =
                fuzz(
                        valid,
                        1,
                        bytes ->
                                d.decode(
                                        "images",
                                        0,
                                        0,
                                        "fuzz/3".getBytes(StandardCharsets.UTF_8),
                                        bytes));
        assertThat(dead).isGreaterThan(MESSAGES / 2);
        // Through the Kafka interface too, with a key naming the run: the run tracker can count it.
        List<Either<DeadLetterEvent, ImageEvent>> out = new ArrayList<>();
        d.deserialize(
                new ConsumerRecord<>(
                        "images", 0, 0, "fuzz/5".getBytes(StandardCharsets.UTF_8), new byte[] {1}),
                collector(out));
        assertThat(out).hasSize(1);
        assertThat(out.get(0).left().runId).isEqualTo("fuzz");
        assertThat(out.get(0).left().imageId).isEqualTo(5);
    }

    @Test
    void shouldTurnEveryBadModelMessageIntoADeadLetter() {
        byte[] valid =
                AvroCodec.of(ModelSnapshot.class)
                        .encode(
                                ModelIo.toSnapshot(
                                        Fixtures.randomMlp(1, 6, 4, 3), null, null, "fuzz"));
        ModelDeserializer d = new ModelDeserializer();
        int dead = fuzz(valid, 2, bytes -> d.decode("models", 0, 0, bytes));
        // Most changes of a model's bytes change its weights and so break its version; trailing
        // bytes (1 case in 8) and changes to provenance fields leave a valid model.
        assertThat(dead).isGreaterThan(MESSAGES * 3 / 4);
    }

    @Test
    void shouldTurnEveryBadRunAnnouncementIntoADeadLetter() {
        byte[] valid =
                AvroCodec.of(RunAnnouncement.class)
                        .encode(Records.announcement("fuzz-run", 100, "mnist/test"));
        RunDeserializer d = new RunDeserializer();
        int dead = fuzz(valid, 3, bytes -> d.decode("runs", 0, 0, bytes));
        assertThat(dead).isGreaterThan(MESSAGES / 2);
    }

    @Test
    void shouldWriteADeadLetterWithoutAnyFieldSet() throws Exception {
        DeadLetter written = Records.deadLetter(new DeadLetterEvent());
        DeadLetter read =
                AvroCodec.of(DeadLetter.class)
                        .decode(AvroCodec.of(DeadLetter.class).encode(written));
        assertThat(read.getReason()).isNotEmpty();
        assertThat(read.getSource()).isEmpty();
        assertThat(read.getRunId()).isEmpty();
    }

    /**
     * Runs {@link #MESSAGES} cases through {@code decode}; returns how many became dead letters.
     */
    private static <T> int fuzz(
            byte[] valid, long seed, Function<byte[], Either<DeadLetterEvent, T>> decode) {
        Random random = new Random(seed);
        int dead = 0;
        for (int i = 0; i < MESSAGES; i++) {
            Case c = mutate(valid, i % 8, random);
            Either<DeadLetterEvent, T> result = decode.apply(c.bytes());
            assertThat(result).as("case %d", i).isNotNull();
            if (c.invalid()) {
                assertThat(result.isLeft())
                        .as("case %d (%s) must be a dead letter", i, Arrays.toString(head(c)))
                        .isTrue();
            }
            if (result.isLeft()) {
                dead++;
                DeadLetterEvent d = result.left();
                assertThat(d.reason).as("case %d", i).isNotBlank();
                assertThat(d.payload).isSameAs(c.bytes());
                assertThat(Records.deadLetter(d).getReason()).isNotBlank();
            }
        }
        return dead;
    }

    private static byte[] head(Case c) {
        return c.bytes() == null ? null : Arrays.copyOf(c.bytes(), Math.min(16, c.bytes().length));
    }

    private static Case mutate(byte[] valid, int kind, Random random) {
        switch (kind) {
            case 0: // random bytes, any length
                byte[] junk = new byte[random.nextInt(64)];
                random.nextBytes(junk);
                return new Case(junk, true);
            case 1: // truncated
                return new Case(Arrays.copyOf(valid, random.nextInt(valid.length)), true);
            case 2: // wrong fingerprint
                byte[] fp = valid.clone();
                fp[2 + random.nextInt(8)] ^= (byte) (1 + random.nextInt(255));
                return new Case(fp, true);
            case 3: // a huge or negative length right after the header, then the rest
                byte[] huge = new byte[valid.length + 5];
                System.arraycopy(valid, 0, huge, 0, 10);
                byte[] varint = {(byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f};
                if (random.nextBoolean()) {
                    varint[0] = (byte) 0xff; // odd zig-zag: negative
                }
                System.arraycopy(varint, 0, huge, 10, 5);
                System.arraycopy(valid, 10, huge, 15, valid.length - 10);
                return new Case(huge, false);
            case 4: // bit flips in the body
                byte[] flipped = valid.clone();
                for (int f = 1 + random.nextInt(4); f > 0; f--) {
                    int at = 10 + random.nextInt(valid.length - 10);
                    flipped[at] ^= (byte) (1 << random.nextInt(8));
                }
                return new Case(flipped, false);
            case 5: // random bytes overwritten at random places
                byte[] overwritten = valid.clone();
                int from = 10 + random.nextInt(valid.length - 10);
                for (int j = from; j < Math.min(valid.length, from + 8); j++) {
                    overwritten[j] = (byte) random.nextInt(256);
                }
                return new Case(overwritten, false);
            case 6: // trailing garbage, or a message cut and spliced with itself
                byte[] spliced = new byte[valid.length + 1 + random.nextInt(32)];
                System.arraycopy(valid, 0, spliced, 0, valid.length);
                for (int j = valid.length; j < spliced.length; j++) {
                    spliced[j] = (byte) random.nextInt(256);
                }
                return new Case(spliced, false);
            default: // empty or null
                return new Case(random.nextBoolean() ? new byte[0] : null, true);
        }
    }

    private static <T> Collector<T> collector(List<T> out) {
        return new Collector<>() {
            @Override
            public void collect(T record) {
                out.add(record);
            }

            @Override
            public void close() {}
        };
    }
}
