package io.pgtrickle.core.dvm.build;

/**
 * The query is valid but cannot be maintained incrementally (yet): the reason is shown to the
 * user, AUTO falls back to FULL, an explicit DIFFERENTIAL is refused.
 */
public final class Unsupported extends Exception {
    private static final long serialVersionUID = 1L;

    public Unsupported(String reason) {
        super(reason, null, false, false);
    }
}
