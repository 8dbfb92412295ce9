package org.robustflow.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress bars on stderr: redrawn in place on a terminal, a plain line every few seconds otherwise
 * (CI logs).
 */
final class Progress {
    private Progress() {}

    static ProgressBar bar(String task, long max, String unit) {
        boolean terminal = System.console() != null;
        return new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(max)
                .setUnit(unit, 1)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(terminal ? 200 : 5000)
                .setConsumer(
                        terminal
                                ? new ConsoleProgressBarConsumer(System.err)
                                : new DelegatingProgressBarConsumer(System.err::println))
                .build();
    }
}
