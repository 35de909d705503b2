package io.pgtrickle.core.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** When a stream table is refreshed: every fixed period, on a cron expression, or as its consumers need. */
public sealed interface Schedule permits Schedule.Every, Schedule.CronSchedule, Schedule.Calculated {

    /**
     * The smallest period accepted. The scheduler's tick is 100 ms; a shorter period would only
     * ask for refreshes that cannot happen.
     */
    Duration MIN_PERIOD = Duration.ofMillis(100);

    String HINT = "Accepted: a duration such as '500ms', '30s', '5m', '1h', '1h30m' (units ms, s, m, h, d, w), "
            + "a cron expression such as '*/5 * * * *' (5 fields, or 6 with seconds first) or '@hourly', "
            + "or 'calculated' (as often as the stream tables that read it need).";

    /** The text stored in the catalog; null for calculated. */
    String catalogText();

    /** A fixed period. */
    record Every(Duration period, String text) implements Schedule {
        @Override
        public String catalogText() {
            return text;
        }
    }

    /** A cron expression, evaluated in UTC. */
    record CronSchedule(String expression, Cron cron) implements Schedule {
        /** The first firing strictly after {@code after}. */
        public Instant nextAfter(Instant after) {
            Optional<ZonedDateTime> next = ExecutionTime.forCron(cron).nextExecution(after.atZone(ZoneId.of("UTC")));
            return next.map(ZonedDateTime::toInstant).orElse(Instant.MAX);
        }

        @Override
        public String catalogText() {
            return expression;
        }
    }

    /** Inherits the tightest schedule of the stream tables that read this one. */
    record Calculated() implements Schedule {
        @Override
        public String catalogText() {
            return null;
        }
    }

    Pattern DURATION = Pattern.compile("(?:\\d+(?:ms|s|m|h|d|w))+");
    Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h|d|w)");
    Map<String, String> CRON_ALIASES = Map.of(
            "@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *", "@monthly", "0 0 1 * *",
            "@weekly", "0 0 * * 0", "@daily", "0 0 * * *", "@midnight", "0 0 * * *", "@hourly", "0 * * * *");

    /** Parses the user's text; the catalog's NULL (calculated) is passed as null by {@link #fromCatalog}. */
    static Schedule parse(String text) {
        if (text == null || text.isBlank()) {
            throw new PgtException(ErrorCode.INVALID_SCHEDULE, "the schedule is empty", HINT);
        }
        String s = text.strip();
        String lower = s.toLowerCase(Locale.ROOT);
        if (lower.equals("calculated")) {
            return new Calculated();
        }
        if (s.startsWith("@") || s.chars().anyMatch(Character::isWhitespace)) {
            return parseCron(s);
        }
        if (lower.matches("\\d+")) {
            return every(Duration.ofSeconds(parseNumber(s, text)), s);
        }
        if (!DURATION.matcher(lower).matches()) {
            throw new PgtException(ErrorCode.INVALID_SCHEDULE, "invalid schedule '" + text + "'", HINT);
        }
        Duration total = Duration.ZERO;
        Matcher m = PART.matcher(lower);
        while (m.find()) {
            long n = parseNumber(m.group(1), text);
            try {
                total = total.plus(switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    case "d" -> Duration.ofDays(n);
                    case "w" -> Duration.ofDays(Math.multiplyExact(n, 7));
                    default -> throw new IllegalStateException(m.group(2));
                });
            } catch (ArithmeticException e) {
                throw new PgtException(ErrorCode.INVALID_SCHEDULE, "schedule '" + text + "' is too long", HINT);
            }
        }
        return every(total, lower);
    }

    static Schedule fromCatalog(String text) {
        return text == null ? new Calculated() : parse(text);
    }

    private static Every every(Duration d, String text) {
        if (d.compareTo(MIN_PERIOD) < 0) {
            throw new PgtException(ErrorCode.INVALID_SCHEDULE,
                    "schedule '" + text + "' is shorter than the minimum of " + MIN_PERIOD.toMillis() + "ms", HINT);
        }
        return new Every(d, text);
    }

    private static long parseNumber(String digits, String text) {
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new PgtException(ErrorCode.INVALID_SCHEDULE, "schedule '" + text + "' is too long", HINT);
        }
    }

    private static CronSchedule parseCron(String text) {
        String expr = CRON_ALIASES.getOrDefault(text.toLowerCase(Locale.ROOT), text);
        String[] fields = expr.trim().split("\\s+");
        try {
            CronParser parser = switch (fields.length) {
                case 5 -> new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
                case 6 -> new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING53));
                default -> throw new IllegalArgumentException("a cron expression has 5 or 6 fields, this one has " + fields.length);
            };
            Cron cron = parser.parse(String.join(" ", fields)).validate();
            return new CronSchedule(text, cron);
        } catch (IllegalArgumentException e) {
            throw new PgtException(ErrorCode.INVALID_SCHEDULE,
                    "invalid cron schedule '" + text + "': " + e.getMessage(), HINT);
        }
    }
}
