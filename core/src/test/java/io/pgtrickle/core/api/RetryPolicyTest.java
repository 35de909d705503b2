package io.pgtrickle.core.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RetryPolicyTest {
    @Test
    void decidesFromSqlStateOnly() {
        assertThat(RetryPolicy.retryable("40001")).isTrue();  // serialization failure
        assertThat(RetryPolicy.retryable("40P01")).isTrue();  // deadlock
        assertThat(RetryPolicy.retryable("08006")).isTrue();  // connection failure
        assertThat(RetryPolicy.retryable("55P03")).isTrue();  // lock not available
        assertThat(RetryPolicy.retryable("57014")).isTrue();  // statement timeout
        assertThat(RetryPolicy.retryable("22012")).isFalse(); // division by zero
        assertThat(RetryPolicy.retryable("23505")).isFalse(); // unique violation
        assertThat(RetryPolicy.retryable("42P01")).isFalse(); // undefined table
        assertThat(RetryPolicy.retryable("55000")).isFalse();
        assertThat(RetryPolicy.retryable("53100")).isTrue();  // disk full: may pass
        assertThat(RetryPolicy.retryable(null)).isTrue();
    }
}
