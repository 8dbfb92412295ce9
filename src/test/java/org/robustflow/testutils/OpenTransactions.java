package org.robustflow.testutils;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.robustflow.pipeline.kafka.Topics;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The transactions open on a broker, for the failure message of an end-to-end test: one left open
 * pins the last stable offset, and read_committed readers see nothing after it until it times out.
 */
public final class OpenTransactions {
    private OpenTransactions() {}

    /** Transactional ids that are neither complete nor empty. */
    public static List<String> ids(Topics topics) throws Exception {
        try (Admin admin = Admin.create(topics.clientProperties())) {
            return admin.listTransactions().all().get(30, TimeUnit.SECONDS).stream()
                    .filter(t -> t.state() != TransactionState.COMPLETE_COMMIT)
                    .filter(t -> t.state() != TransactionState.COMPLETE_ABORT)
                    .filter(t -> t.state() != TransactionState.EMPTY)
                    .map(TransactionListing::transactionalId)
                    .sorted()
                    .toList();
        }
    }

    /** One line per open transaction (id, state, start, partitions), or why they are unknown. */
    public static String describe(Topics topics) {
        StringBuilder s = new StringBuilder();
        try (Admin admin = Admin.create(topics.clientProperties())) {
            List<String> open = ids(topics);
            if (!open.isEmpty()) {
                Map<String, TransactionDescription> all =
                        admin.describeTransactions(open).all().get(30, TimeUnit.SECONDS);
                all.forEach(
                        (id, d) ->
                                s.append("open transaction ")
                                        .append(id)
                                        .append(' ')
                                        .append(d.state())
                                        .append(" since ")
                                        .append(
                                                d.transactionStartTimeMs().isPresent()
                                                        ? Instant.ofEpochMilli(
                                                                d.transactionStartTimeMs()
                                                                        .getAsLong())
                                                        : "?")
                                        .append(" on ")
                                        .append(d.topicPartitions())
                                        .append('\n'));
            }
            s.append(open.size()).append(" transactions open\n");
        } catch (Exception e) {
            s.append("transactions: ").append(e).append('\n');
        }
        return s.toString();
    }
}
