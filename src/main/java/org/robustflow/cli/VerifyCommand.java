package org.robustflow.cli;

import org.robustflow.attack.Pgd;
import org.robustflow.model.Network;
import org.robustflow.spec.Property;
import org.robustflow.spec.VnnlibReader;
import org.robustflow.verify.PropertyVerifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code verify}: one VNN-COMP instance, a network and a VNN-LIB property, answered as VNN-COMP
 * expects: {@code unsat}, {@code sat} with the counterexample, {@code timeout} or {@code unknown}.
 *
 * <pre>{@code
 * ./robustflow verify --onnx ../shared/bench/vnncomp2022-mnist_fc/onnx/mnist-net_256x2.onnx.gz \
 *     --vnnlib ../shared/bench/vnncomp2022-mnist_fc/vnnlib/prop_0_0.03.vnnlib.gz --out result.txt
 * }</pre>
 */
@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description =
                "Decide one VNN-LIB property on a network (ONNX, mlp-json/1 or model file): unsat, sat (with counterexample), timeout or unknown.")
public final class VerifyCommand implements Callable<Integer> {
    @Option(
            names = {"--onnx", "--model"},
            required = true,
            description = "The network: .onnx(.gz), mlp-json/1 .json, or an Avro model file.")
    Path network;

    @Option(
            names = "--vnnlib",
            required = true,
            description = "The property: .vnnlib or .vnnlib.gz.")
    Path property;

    @Option(
            names = "--timeout",
            defaultValue = "120",
            description = "Seconds (default: ${DEFAULT-VALUE}).")
    double timeout;

    @Mixin BabThreadsOption threads;

    @Option(
            names = "--out",
            description = "Also write the result in VNN-COMP's result-file format here.")
    Path out;

    @Override
    public Integer call() throws Exception {
        Network net;
        Property prop;
        try {
            net = Models.read(Models.existing(network));
            prop = VnnlibReader.read(Models.existing(property));
        } catch (Exception e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        PropertyVerifier.Result r =
                new PropertyVerifier(net, Pgd.Settings.defaults(), true, threads.count())
                        .verify(prop, (long) (timeout * 1000));
        String text = resultText(r);
        System.out.println(text);
        System.err.printf(
                Locale.ROOT,
                "%s by %s in %.3f s%n",
                r.outcome().word(),
                r.method(),
                r.micros() / 1e6);
        if (out != null) {
            Files.writeString(out, text + "\n", StandardCharsets.UTF_8);
        }
        return 0;
    }

    /** The result file's text: the word, and for sat the counterexample. */
    static String resultText(PropertyVerifier.Result r) {
        if (r.outcome() == PropertyVerifier.Outcome.SAT) {
            return "sat\n" + PropertyVerifier.counterexample(r.counterexample(), r.outputs());
        }
        return r.outcome().word();
    }
}
