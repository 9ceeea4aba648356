/* A loadable module that is not an ethd plugin: it has no descriptor. */
int ethd_test_not_a_plugin(void);
int ethd_test_not_a_plugin(void) { return 1; }
