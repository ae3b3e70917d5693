from services.launcher.supervisor import main

main()
