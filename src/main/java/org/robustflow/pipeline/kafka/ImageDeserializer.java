package org.robustflow.pipeline.kafka;

import org.apache.flink.api.common.typeinfo.TypeHint;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.robustflow.avro.MnistImage;
import org.robustflow.data.AvroCodec;
import org.robustflow.pipeline.records.DeadLetterEvent;
import org.robustflow.pipeline.records.ImageEvent;

import java.nio.charset.StandardCharsets;

/**
 * Reads images from Kafka and never throws: a message that does not decode, or an image the job
 * cannot use (pixel count, label out of range), comes out as a dead letter with the reason and the
 * original bytes, so one bad message never stops the job.
 *
 * <p>A dead letter names the run and image it rejects when the record, or failing that the message
 * key ({@code runId/imageId}, as {@code produce} writes it), says: the run tracker counts it, so
 * the run still completes.
 */
public final class ImageDeserializer
        implements KafkaRecordDeserializationSchema<Either<DeadLetterEvent, ImageEvent>> {
    private static final long serialVersionUID = 1L;

    private final int inputSize;
    private transient AvroCodec<MnistImage> codec;

    public ImageDeserializer(int inputSize) {
        this.inputSize = inputSize;
    }

    @Override
    public void deserialize(
            ConsumerRecord<byte[], byte[]> record,
            Collector<Either<DeadLetterEvent, ImageEvent>> out) {
        out.collect(
                decode(
                        record.topic(),
                        record.partition(),
                        record.offset(),
                        record.key(),
                        record.value()));
    }

    /** The image in a message, or the dead letter saying why there is none. Never throws. */
    public Either<DeadLetterEvent, ImageEvent> decode(
            String topic, int partition, long offset, byte[] key, byte[] value) {
        if (codec == null) {
            codec = AvroCodec.of(MnistImage.class);
        }
        String problem;
        ImageEvent image = null;
        try {
            image = Records.image(codec.decode(value));
            problem = image.problem(inputSize);
            if (problem == null) {
                return Either.Right(image);
            }
        } catch (Exception e) {
            problem = Records.reason(e);
        }
        DeadLetterEvent dead = new DeadLetterEvent(topic, partition, offset, problem, value);
        if (image != null && image.runId != null && !image.runId.isEmpty()) {
            dead.forImage(image.runId, image.imageId, image.expectedTotal);
        } else {
            forKey(dead, key);
        }
        return Either.Left(dead);
    }

    /** Names the image from a {@code runId/imageId} key, if the key is one. */
    private static void forKey(DeadLetterEvent dead, byte[] key) {
        if (key == null) {
            return;
        }
        String k = new String(key, StandardCharsets.UTF_8);
        int slash = k.lastIndexOf('/');
        if (slash <= 0) {
            return;
        }
        try {
            dead.forImage(k.substring(0, slash), Long.parseLong(k.substring(slash + 1)), 0);
        } catch (NumberFormatException e) {
            // not our key format: the dead letter names no run
        }
    }

    @Override
    public TypeInformation<Either<DeadLetterEvent, ImageEvent>> getProducedType() {
        return TypeInformation.of(new TypeHint<Either<DeadLetterEvent, ImageEvent>>() {});
    }
}
