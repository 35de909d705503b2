package io.pgtrickle.server.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PromQlTest {

    @Test
    void namesOfSelectorsNotOfFunctionsKeywordsOrLabels() {
        assertThat(PromQl.metricNames("""
                histogram_quantile(0.99, sum by (job, le) (rate(a_seconds_bucket{job=~"$job", x="{not} b"}[$__rate_interval])))
                  > on (job) group_left (team) 1.5 * max without (instance) (b_seconds offset 5m) + 60
                  or absent(c) unless count(d[1h:1m]) by (job) and bool e # f is a comment
                """)).containsExactly("a_seconds_bucket", "b_seconds", "c", "d", "e");
    }

    @Test
    void stringsAndGrafanaVariablesAreNotNames() {
        assertThat(PromQl.metricNames("label_replace(up{a='it\\'s}'}, \"dst\", \"$1\", \"src\", \"(.*)\") * ${factor} - $other"))
                .containsExactly("up");
        assertThat(PromQl.metricNames("-sum(rate(x_total[5m])) or vector(0) > Inf")).containsExactly("x_total");
        assertThat(PromQl.metricNames("ns:metric_name:rate5m > .5e3")).containsExactly("ns:metric_name:rate5m");
    }

    @Test
    void unbalancedBracketsAreReported() {
        assertThatThrownBy(() -> PromQl.metricNames("sum(x{a=\"b\")")).isInstanceOf(IllegalArgumentException.class);
    }
}
