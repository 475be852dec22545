/*
 * nosym.c - test plugin that exports no entry symbol: refused.
 */
int not_a_plugin(void);
int not_a_plugin(void) { return 42; }
