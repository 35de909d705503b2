package io.pgtrickle.core.dvm;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * The number of tries of one property, taken in this order from:
 * <ol>
 *   <li>the system property {@link #systemProperty()} ({@code -Dpgtrickle.joins.tries=5000});</li>
 *   <li>the system property {@code jqwik.tries.default}, which only the Maven profile
 *       {@code long-properties} sets (to {@code pgtrickle.property.tries}, 50,000 unless given),
 *       divided by {@link #longRunDivisor()};</li>
 *   <li>{@link #tries()}.</li>
 * </ol>
 * (The default build's 500 tries for other properties come from junit-platform.properties, which
 * is not a system property, so it does not apply here.)
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@AddLifecycleHook(PropertyTries.Hook.class)
@interface PropertyTries {
    String systemProperty();

    int tries();

    int longRunDivisor() default 1;

    final class Hook implements AroundPropertyHook {
        @Override
        public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
            context.findAnnotation(PropertyTries.class).ifPresent(a -> context.attributes().setTries(resolve(a)));
            return property.execute();
        }

        static int resolve(PropertyTries a) {
            String own = System.getProperty(a.systemProperty());
            if (own != null && !own.isBlank()) {
                return Integer.parseInt(own.trim());
            }
            String longRun = System.getProperty("jqwik.tries.default");
            if (longRun != null && !longRun.isBlank()) {
                return Math.max(1, Integer.parseInt(longRun.trim()) / a.longRunDivisor());
            }
            return a.tries();
        }
    }
}
