# bmlb with no, unknown or help arguments.
source "$(dirname "$0")/lib.sh"
run $BMLB
expect_rc "no command is a usage error" 2
run $BMLB frobnicate
expect_rc "an unknown command is a usage error" 2
expect_err "it says which" "unknown command 'frobnicate'"
run $BMLB --help
expect_rc "--help" 0
expect_out "--help lists validate" "validate"
expect_out "--help lists plan" "plan"
exit 0
