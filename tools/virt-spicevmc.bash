# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for virt-spicevmc.  The candidates come from 'virt-spicevmc complete', which
# reads the command table; it asks for domains (virsh list --name, as virsh completes them),
# channel ids (virt-spicevmc list -q) and files with a line "@KIND<TAB>ARG...", the arguments
# saying which VM or libvirt.

_virt_spicevmc_listed()
{
    local kind=$1 prefix=$2
    shift 2
    case $kind in
    files)
        compgen -f -- "$prefix";;
    domains)
        virsh "$@" list --all --name 2>/dev/null | compgen -W "$(cat)" -- "$prefix";;
    ids)
        "${COMP_WORDS[0]}" "$@" list -q 2>/dev/null |
            while read -r id _; do printf '%s\n' "$id"; done | compgen -W "$(cat)" -- "$prefix";;
    esac
}

_virt_spicevmc()
{
    local line
    local -a args
    COMPREPLY=()
    while IFS= read -r line; do
        if [[ $line == @* ]]; then
            IFS=$'\t' read -r -a args <<< "${line#@}"
            [[ ${args[0]} == files ]] && compopt -o filenames 2>/dev/null
            while IFS= read -r line; do
                COMPREPLY+=("$line")
            done < <(_virt_spicevmc_listed "${args[0]}" "${COMP_WORDS[COMP_CWORD]}" "${args[@]:1}")
        else
            COMPREPLY+=("$line")
        fi
    done < <("${COMP_WORDS[0]}" complete -- "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
}

complete -F _virt_spicevmc virt-spicevmc
