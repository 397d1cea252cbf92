// nerves-hub-link(1) for the Debian package: the CLI's own --help as the usage, with what the package puts where.
// The help text comes from the bundle (the same code as the executable), so the page cannot drift from the CLI.

/** Text as roff: backslashes and minus signs escaped, no line starting with a control character. */
function roff(text) {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

/** The man page source; `help` is the output of `nerves-hub-link --help`. */
export function manPage({ version, date, help }) {
  const day = date.toISOString().slice(0, 10);
  return `.TH NERVES\\-HUB\\-LINK 1 ${day} "nerves\\-hub\\-link ${roff(version)}" "User Commands"
.SH NAME
nerves\\-hub\\-link \\- NervesHub device client: firmware updates over the air
.SH SYNOPSIS
.B nerves\\-hub\\-link
.I command
.RI [ options ]
.SH DESCRIPTION
.B nerves\\-hub\\-link
keeps a connection to a NervesHub server (mTLS or a shared secret), reports the running firmware, and when the
server offers an update downloads it completely, checks it, applies it with
.BR fwup ,
reports every step and reboots.
Under systemd it runs as the service
.BR nerves\\-hub\\-link.service ,
as the user
.BR nerves\\-hub\\-link .
.SH USAGE
.nf
${roff(help.trimEnd())}
.fi
.SH EXIT STATUS
0: done (rebooting, or stopped); 1: failure; 64: usage; 69:
.B check
could not join; 78: the configuration, or a file it names, cannot be used (systemd does not restart the service
then).
.B status
has its own, above.
.SH FILES
.TP
.I /etc/nerves\\-hub\\-link/config.toml
The configuration; every key is explained in it.
.TP
.I /var/lib/nerves\\-hub\\-link
Downloads, the single\\-instance lock and the status file.
.SH SEE ALSO
.BR systemctl (1),
.BR fwup (1),
.I /usr/share/doc/nerves\\-hub\\-link/README.Debian
`;
}
