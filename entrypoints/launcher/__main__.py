from entrypoints.launcher.supervisor import main

main()
