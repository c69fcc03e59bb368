/* Sub-commands of the factord binary. main.c dispatches argv[1] through its table; each
 * command lives in src/cli/cmd_<name>.c, parses its own flags, prints its own --help and
 * returns the process exit status (0 ok, 1 failure, 2 usage). Only main() exits. */
#ifndef FACTORD_CLI_H
#define FACTORD_CLI_H

int fd_cmd_serve(int argc, char **argv);
int fd_cmd_migrate(int argc, char **argv);
int fd_cmd_train(int argc, char **argv); /* src/cli/cmd_train.c */
int fd_cmd_prices(int argc, char **argv); /* src/cli/cmd_prices.c */
int fd_cmd_simulate(int argc, char **argv); /* src/cli/cmd_simulate.c */
int fd_cmd_report(int argc, char **argv); /* src/cli/cmd_report.c */
int fd_cmd_token(int argc, char **argv);  /* src/cli/cmd_token.c */
int fd_cmd_artifact(int argc, char **argv); /* src/cli/cmd_artifact.c */

#endif
