#!/bin/sh
# Check the audit trail's hash chain and leave the result for node_exporter's textfile
# collector, where deploy/alerts.yml reads it:
#   siapambil_audit_chain_intact              1 when `audit verify` passed, else 0
#   siapambil_audit_verify_timestamp_seconds  when it last ran
# The head (DIGEST:COUNT) of the last good check is kept in $STATE_DIRECTORY/audit-head and
# expected the next time, so newest rows cut off are found too. After a restore from a
# backup, remove that file: the restored trail is older than the head it kept.
# Run by siapambil-audit-verify.timer (daily); the settings come from its EnvironmentFile.
# Exit status: 0 intact, 1 broken or cut, 2 the result could not be left for node_exporter.
set -u
flask=${FLASK:-/opt/siapambil/.venv/bin/flask}
state=${STATE_DIRECTORY:-/var/lib/siapambil}
textfiles=${TEXTFILE_DIRECTORY:-/var/lib/prometheus/node-exporter}

if [ -s "${state}/audit-head" ]; then
  said=$("${flask}" --app wsgi audit verify --expect "$(cat "${state}/audit-head")" 2>&1)
else
  said=$("${flask}" --app wsgi audit verify 2>&1)
fi
if [ $? -eq 0 ]; then
  intact=1
  printf '%s\n' "${said}" | awk '/^head /{print $2 ":" $4}' >"${state}/audit-head.new" &&
    mv "${state}/audit-head.new" "${state}/audit-head"
else
  intact=0
fi
printf '%s\n' "${said}" | grep -v WARNING

# Written whole, then renamed, so that node_exporter never reads half a file. A result that
# cannot be left there fails the run (status 2), whatever the check found: an alert that
# never sees a result is no alert.
if ! {
  echo "# HELP siapambil_audit_chain_intact 1 when the last audit verify passed, 0 when it failed."
  echo "# TYPE siapambil_audit_chain_intact gauge"
  echo "siapambil_audit_chain_intact ${intact}"
  echo "# HELP siapambil_audit_verify_timestamp_seconds When audit verify last ran."
  echo "# TYPE siapambil_audit_verify_timestamp_seconds gauge"
  echo "siapambil_audit_verify_timestamp_seconds $(date +%s)"
} >"${textfiles}/siapambil_audit.prom.$$" ||
  ! mv "${textfiles}/siapambil_audit.prom.$$" "${textfiles}/siapambil_audit.prom"; then
  rm -f "${textfiles}/siapambil_audit.prom.$$" 2>/dev/null
  echo "audit check: its result could not be written into ${textfiles} (node_exporter's" \
    "textfile directory): the user $(id -un) must be able to write there" \
    "(docs/production.md, step 10)" >&2
  exit 2
fi
[ "${intact}" -eq 1 ]
