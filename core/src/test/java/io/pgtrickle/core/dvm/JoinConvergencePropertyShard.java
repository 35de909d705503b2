package io.pgtrickle.core.dvm;

/**
 * The second half of {@link JoinConvergencePropertyTest}'s long run: the same pool and property,
 * other random tries. A try waits on its server most of the time, so one JVM keeps one of the two
 * cores busy; the long profile runs this class in a second fork (its name does not end in Test, so
 * the default build, which runs the 1,000 tries of the first class, leaves it out).
 */
class JoinConvergencePropertyShard extends JoinConvergencePropertyTest {
    /** How many classes the long run's tries are divided between. */
    static final int SHARDS = 2;
}
