package io.pgtrickle.core.dvm;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.RandomDistribution;

/**
 * A generated list of numbers read as a sequence of decisions, so that a structured generator (a
 * query with dependent parts) can be plain code and still shrink: option 0 of every decision is
 * the simplest one, and a decision past the end of the list takes option 0. jqwik shrinks the
 * list (shorter, smaller numbers), which simplifies the generated structure.
 */
final class Choices {
    private final List<Integer> values;
    private int next;

    Choices(List<Integer> values) {
        this.values = values;
    }

    /**
     * Lists of up to {@code maxDecisions} numbers, sizes and numbers uniform (jqwik's defaults favour
     * short lists and small numbers, which would make most generated queries the simplest one).
     */
    static Arbitrary<List<Integer>> arbitrary(int maxDecisions) {
        return Arbitraries.integers().between(0, 9_999).withDistribution(RandomDistribution.uniform())
                .list().ofMaxSize(maxDecisions)
                .withSizeDistribution(RandomDistribution.uniform());
    }

    /** 0 .. n-1. */
    int pick(int n) {
        return next >= values.size() ? 0 : values.get(next++) % n;
    }

    /** True with about this chance; false when shrunk. */
    boolean maybe(int percent) {
        return pick(100) >= 100 - percent;
    }

    @SafeVarargs
    final <T> T of(T... options) {
        return options[pick(options.length)];
    }

    <T> T of(List<T> options) {
        return options.get(pick(options.size()));
    }
}
