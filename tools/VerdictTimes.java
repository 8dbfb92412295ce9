import org.robustflow.avro.VerdictRecord;
import org.robustflow.data.AvroCodec;
import org.robustflow.pipeline.kafka.KafkaClients;
import org.robustflow.pipeline.kafka.Topics;
import java.time.Duration;
import java.util.*;

/**
 * Percentiles of the time each (image, eps) pair took to decide (the verdicts' micros), by method,
 * from a verdicts topic of the local broker: how long the bound and attack stage holds its task
 * thread per record. {@code java -cp target/classes:$(cat target/classpath.txt)
 * tools/VerdictTimes.java SUFFIX} (the job's --topic-suffix), or {@code list} for the verdict topics.
 */
public class VerdictTimes {
    public static void main(String[] a) throws Exception {
        if (a[0].equals("list")) {
            try (var admin = org.apache.kafka.clients.admin.Admin.create(Topics.defaults("127.0.0.1:9092").clientProperties())) {
                admin.listTopics().names().get().stream().filter(n -> n.startsWith("robustflow.verdicts")).sorted().forEach(System.out::println);
            }
            return;
        }
        Topics t = Topics.defaults("127.0.0.1:9092").withSuffix(a[0]);
        AvroCodec<VerdictRecord> codec = AvroCodec.of(VerdictRecord.class);
        Map<String, List<Long>> by = new TreeMap<>();
        for (byte[] v : KafkaClients.readCommitted(t, t.verdicts(), Duration.ofSeconds(3))) {
            VerdictRecord r = codec.decode(v);
            by.computeIfAbsent(String.valueOf(r.getMethod()), k -> new ArrayList<>()).add(r.getMicros());
        }
        for (var e : by.entrySet()) {
            List<Long> l = e.getValue(); Collections.sort(l);
            System.out.printf("%-6s n=%d p50=%.1f ms p99=%.1f ms p99.9=%.1f ms max=%.1f ms%n", e.getKey(), l.size(),
                l.get(l.size()/2)/1e3, l.get((int)(l.size()*0.99))/1e3, l.get(Math.min(l.size()-1,(int)(l.size()*0.999)))/1e3, l.get(l.size()-1)/1e3);
        }
    }
}
