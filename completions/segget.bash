# SPDX-License-Identifier: MIT
# bash completion for segget: its options, and file names where an
# option takes a file or a directory.  Installed by `make install` into
# share/bash-completion/completions/segget.
_segget()
{
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
    --shard)
        COMPREPLY=($(compgen -W 'auto' -- "$cur"))
        return ;;
    -o|--output|-i|--input-file|--report|--checksum-file|--cacert|-b|--cookie|\
    --load-cookies)
        COMPREPLY=($(compgen -f -- "$cur"))
        return ;;
    -P|--dir|--capath)
        COMPREPLY=($(compgen -d -- "$cur"))
        return ;;
    -n|--connections|-j|--jobs|--max-tries|--retry|--connect-timeout|\
    --stall-timeout|--timeout|--max-per-host|--min-split|--limit-rate|\
    --buffer|--range|-u|--user|-A|-U|--user-agent|-H|--header|\
    -e|--referer|-x|--proxy|--interface|--checksum)
        return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '--connections --output --dir
            --content-disposition --force --continue --remote-name
            --location --create-dirs --quiet --silent --verbose --json
            --min-split --max-tries --retry --connect-timeout
            --stall-timeout --timeout --fail-if-changed --checksum
            --no-verify --checksum-file --insecure --cacert --capath
            --user-agent --header --referer --cookie --load-cookies --user
            --netrc --proxy --ipv4 --ipv6 --interface --limit-rate --range
            --buffer --input-file --jobs --max-per-host --refresh --shard
            --report --no-config --help --version -n -o -P -J -f -c -O -L -q -s -v
            -k -A -U -H -e -b -u -x -4 -6 -i -j -N -h -V' -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _segget segget
