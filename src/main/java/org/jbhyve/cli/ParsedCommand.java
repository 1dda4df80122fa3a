package org.jbhyve.cli;

import org.jbhyve.config.ConfigTree;

/**
 * What a bhyve command line asks for: a help text to print (then exit 0, as
 * bhyve does), or a VM to run from a settings tree.
 */
public sealed interface ParsedCommand {

    /** A text to print on standard output, then exit 0. */
    sealed interface Text extends ParsedCommand {
        String text();
    }

    /** {@code -h}: the full usage text, ending with a newline. */
    record Help(String text) implements Text {
    }

    /** {@code -s help}: the PCI emulations, one per line. */
    record SlotHelp(String text) implements Text {
    }

    /** {@code -l help}: the LPC devices, one per line. */
    record LpcHelp(String text) implements Text {
    }

    /**
     * Run a VM described by {@code tree}. Only what the user set is in the
     * tree; defaults are the reader's business.
     */
    record Run(ConfigTree tree) implements ParsedCommand {

        /**
         * {@code -o config.dump=1}: print {@link ConfigTree#dump()} and exit
         * with status 1 instead of running, as bhyve does. When it is set the
         * command line was checked only up to the VM name, as in bhyve, so a
         * dump shows even a tree whose topology or memory size is wrong.
         */
        public boolean configDump() {
            return tree.getBoolean("config.dump", false);
        }
    }
}
