; The shell form of RUN is a shell command.

((run_instruction (shell_command) @injection.content)
 (#set! injection.language "bash"))
