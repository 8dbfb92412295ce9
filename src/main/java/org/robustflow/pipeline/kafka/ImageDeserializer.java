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

/**
 * Reads images from Kafka and never throws: a message that does not decode, or an image the job
 * cannot use (pixel count, label out of range), comes out as a dead letter with the reason and the
 * original bytes, so one bad message never stops the job.
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
        if (codec == null) {
            codec = AvroCodec.of(MnistImage.class);
        }
        String problem;
        try {
            ImageEvent image = Records.image(codec.decode(record.value()));
            problem = image.problem(inputSize);
            if (problem == null) {
                out.collect(Either.Right(image));
                return;
            }
        } catch (Exception e) {
            problem = e.getMessage();
        }
        out.collect(
                Either.Left(
                        new DeadLetterEvent(
                                record.topic(),
                                record.partition(),
                                record.offset(),
                                problem,
                                record.value())));
    }

    @Override
    public TypeInformation<Either<DeadLetterEvent, ImageEvent>> getProducedType() {
        return TypeInformation.of(new TypeHint<Either<DeadLetterEvent, ImageEvent>>() {});
    }
}
