/**
 * Small text checks shared by the option parsers of every layer (see {@link org.jbhyve.text.Chars}).
 * A leaf: it depends on no other package of ours, and any package may use it.
 */
package org.jbhyve.text;
