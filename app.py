from careerprep import create_app

app = create_app()
