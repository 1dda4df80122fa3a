package org.jbhyve.log;

import java.util.logging.Logger;

/**
 * A {@code java.util.logging} logger that is made when it is first used. Making one starts the
 * logging framework: its LogManager reads the JDK's logging configuration and some forty classes
 * load and stay resident. Device classes hold their logger in a static field, so with plain
 * loggers every VM start paid for that, though most VMs never log a line.
 */
public final class LazyLogger {
    private final String name;
    private volatile Logger logger;

    public LazyLogger(Class<?> owner) {
        this.name = owner.getName();
    }

    /** The logger of the owner's name, made on the first call. */
    public Logger get() {
        Logger made = logger;
        if (made == null) {
            made = Logger.getLogger(name); // threads racing here get the one logger the LogManager keeps
            logger = made;
        }
        return made;
    }
}
